import{A as e,n}from"./index-ClQ-tY9R.js";function r(){return e(()=>n("/channels",{replace:!0}),[]),null}export{r as default};
